//! iCalendar (RFC 5545) export of one event.
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
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
    ];
    // Local times with the event's TZID, defined by a VTIMEZONE holding the offset in force at
    // the start (calendar apps that know the IANA name show the zone by it). An end under
    // another offset (a daylight-saving change during the event) is given in UTC.
    let zone = event.timezone.parse::<Tz>().ok().filter(|tz| *tz != Tz::UTC);
    let (start, end) = match zone {
        Some(tz) => {
            let (start, end) = (event.starts_at.with_timezone(&tz), event.ends_at.with_timezone(&tz));
            let offset = start.format("%z").to_string();
            lines.extend([
                "BEGIN:VTIMEZONE".to_owned(),
                format!("TZID:{}", tz.name()),
                "BEGIN:STANDARD".to_owned(),
                "DTSTART:19700101T000000".to_owned(),
                format!("TZOFFSETFROM:{offset}"),
                format!("TZOFFSETTO:{offset}"),
                format!("TZNAME:{}", start.format("%Z")),
                "END:STANDARD".to_owned(),
                "END:VTIMEZONE".to_owned(),
            ]);
            let local = |t: DateTime<Tz>| format!(";TZID={}:{}", tz.name(), t.format("%Y%m%dT%H%M%S"));
            let end =
                if end.format("%z").to_string() == offset { local(end) } else { format!(":{}", stamp(event.ends_at)) };
            (local(start), end)
        }
        None => (format!(":{}", stamp(event.starts_at)), format!(":{}", stamp(event.ends_at))),
    };
    lines.extend([
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@semasocial", event.id),
        format!("DTSTAMP:{}", stamp(now)),
        format!("DTSTART{start}"),
        format!("DTEND{end}"),
        format!("SUMMARY:{}", escape(&event.title)),
    ]);
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
        // 18:00 UTC is 19:00 in Berlin in January (CET, +0100).
        assert!(ics.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"), "{ics}");
        assert!(ics.contains("TZOFFSETTO:+0100\r\nTZNAME:CET\r\n"), "{ics}");
        assert!(ics.contains("DTSTART;TZID=Europe/Berlin:20270102T190000\r\n"), "{ics}");
        assert!(ics.contains("DTEND;TZID=Europe/Berlin:20270102T210000\r\n"), "{ics}");
        assert!(ics.contains("DESCRIPTION:Line one"), "{ics}");
        assert!(ics.contains("SUMMARY:Rust\\, SQL\\; and more\r\n"));
        assert!(ics.contains("Line one\\nLine two"));
        assert!(!ics.contains("secret.example"), "the online link stays private");
        assert!(ics.split("\r\n").all(|l| l.len() <= 75), "lines are folded");

        // A UTC event keeps UTC times; an event across a daylight-saving change ends in UTC.
        let utc = render(&Model { timezone: "UTC".into(), ..event.clone() }, at(3));
        assert!(utc.contains("DTSTART:20270102T180000Z\r\n") && !utc.contains("VTIMEZONE"));
        let march = |d, h| Utc.with_ymd_and_hms(2027, 3, d, h, 0, 0).single().unwrap_or_default();
        let across = Model { starts_at: march(27, 12), ends_at: march(28, 12), ..event };
        let ics = render(&across, at(3));
        assert!(ics.contains("DTSTART;TZID=Europe/Berlin:20270327T130000\r\n"), "{ics}");
        assert!(ics.contains("DTEND:20270328T120000Z\r\n"), "{ics}");
    }
}
