//! iCalendar (RFC 5545) export of one event.
use chrono::{DateTime, Utc};
use entity::event::{EventStatus, Model};

/// The event as a `text/calendar` document. The online link is never included: the file is public.
pub fn render(event: &Model, now: DateTime<Utc>) -> String {
    let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Semasocial//Semasocial API//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@semasocial", event.id),
        format!("DTSTAMP:{}", stamp(now)),
        format!("DTSTART:{}", stamp(event.starts_at)),
        format!("DTEND:{}", stamp(event.ends_at)),
        format!("SUMMARY:{}", escape(&event.title)),
    ];
    if let Some(description) = &event.description {
        lines.push(format!("DESCRIPTION:{}", escape(description)));
    }
    match &event.venue {
        Some(venue) => lines.push(format!("LOCATION:{}", escape(venue))),
        None => lines.push("LOCATION:Online".to_owned()),
    }
    let status = match event.status {
        EventStatus::Cancelled => "CANCELLED",
        _ => "CONFIRMED",
    };
    lines.push(format!("STATUS:{status}"));
    lines.push("END:VEVENT".to_owned());
    lines.push("END:VCALENDAR".to_owned());
    lines.iter().map(|l| fold(l)).collect::<Vec<_>>().join("\r\n") + "\r\n"
}

/// Escapes text values: backslash, semicolon, comma and newlines.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace("\r\n", "\\n").replace('\n', "\\n")
}

/// Folds a content line at 75 octets, never inside a UTF-8 character.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len().saturating_add(8));
    let mut width: usize = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width.saturating_add(n) > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width = width.saturating_add(n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    #[test]
    fn an_event_renders_as_valid_icalendar() {
        let at = |h| Utc.with_ymd_and_hms(2027, 1, 2, h, 0, 0).single().unwrap_or_default();
        let event = Model {
            id: Uuid::nil(),
            community_id: None,
            host_profile_id: Uuid::nil(),
            title: "Rust, SQL; and more".into(),
            description: Some(format!("Line one\nLine two {}", "é".repeat(60))),
            starts_at: at(18),
            ends_at: at(20),
            timezone: "Europe/Berlin".into(),
            venue: Some("Room 1".into()),
            online_url: Some("https://secret.example/join".into()),
            capacity: 10,
            going_count: 0,
            waitlist_seq: 0,
            status: EventStatus::Scheduled,
            created_at: at(1),
            updated_at: at(1),
        };
        let ics = render(&event, at(3));
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(ics.contains("DTSTART:20270102T180000Z\r\n"));
        assert!(ics.contains("SUMMARY:Rust\\, SQL\\; and more\r\n"));
        assert!(ics.contains("Line one\\nLine two"));
        assert!(!ics.contains("secret.example"), "the online link stays private");
        assert!(ics.split("\r\n").all(|l| l.len() <= 75), "lines are folded");
    }
}
