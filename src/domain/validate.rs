//! Validated input newtypes. A value of one of these types has passed its rules.
use crate::error::{AppError, AppResult};

/// A normalised (trimmed, lower-case) email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses an email address; `field` names the input on error.
    pub fn parse(raw: &str, field: &str) -> AppResult<Self> {
        let email = raw.trim().to_lowercase();
        let bad = || AppError::bad_input(field, "must be a valid email address");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = email.split_once('@').ok_or_else(bad)?;
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err(bad());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(bad());
        }
        Ok(Self(email))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password of acceptable length (10 to 256 characters).
pub struct Password(String);

impl Password {
    /// Minimum length in characters.
    pub const MIN_CHARS: usize = 10;

    /// Checks the length rules.
    pub fn parse(raw: &str, field: &str) -> AppResult<Self> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(AppError::bad_input(field, format!("must be at least {} characters", Self::MIN_CHARS)));
        }
        if n > 256 {
            return Err(AppError::bad_input(field, "must be at most 256 characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Gives the password up for hashing.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A profile handle: 3–32 of `a-z 0-9 _`, starting with a letter; stored lower-case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handle(String);

impl Handle {
    /// Parses and lower-cases a handle.
    pub fn parse(raw: &str, field: &str) -> AppResult<Self> {
        let handle = raw.trim().to_lowercase();
        let ok = (3..=32).contains(&handle.len())
            && handle.starts_with(|c: char| c.is_ascii_lowercase())
            && handle.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(handle))
        } else {
            Err(AppError::bad_input(field, "must be 3-32 characters of a-z, 0-9 and _, starting with a letter"))
        }
    }

    /// The handle.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An organization slug: 3–48 of `a-z 0-9 -`, not starting or ending with `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    /// Parses and lower-cases a slug.
    pub fn parse(raw: &str, field: &str) -> AppResult<Self> {
        let slug = raw.trim().to_lowercase();
        let ok = (3..=48).contains(&slug.len())
            && !slug.starts_with('-')
            && !slug.ends_with('-')
            && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok { Ok(Self(slug)) } else { Err(AppError::bad_input(field, "must be 3-48 characters of a-z, 0-9 and -")) }
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trims free text and checks it is between `min` and `max` characters without control
/// characters (newlines and tabs are allowed when `multiline`).
pub fn text(raw: &str, field: &str, min: usize, max: usize, multiline: bool) -> AppResult<String> {
    let value = raw.trim();
    let n = value.chars().count();
    if n < min {
        return Err(AppError::bad_input(
            field,
            if min == 1 { "must not be empty".into() } else { format!("must be at least {min} characters") },
        ));
    }
    if n > max {
        return Err(AppError::bad_input(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r'))) {
        return Err(AppError::bad_input(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// Optional free text: empty becomes `None`.
pub fn optional_text(raw: Option<&str>, field: &str, max: usize, multiline: bool) -> AppResult<Option<String>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => text(value, field, 1, max, multiline).map(Some),
    }
}

/// An ISO 4217 currency code: three upper-case letters.
pub fn currency(raw: &str, field: &str) -> AppResult<String> {
    let code = raw.trim().to_uppercase();
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(AppError::bad_input(field, "must be a three-letter ISO 4217 currency code"))
    }
}

/// An IANA time zone name such as `Europe/Berlin` or `UTC`, known to the time zone database
/// (spelled as the database spells it; links such as `US/Pacific` are accepted).
pub fn timezone(raw: &str, field: &str) -> AppResult<String> {
    let tz = raw.trim();
    match tz.parse::<chrono_tz::Tz>() {
        Ok(zone) if tz.len() <= 64 => Ok(zone.name().to_owned()),
        _ => Err(AppError::bad_input(field, "must be an IANA time zone such as Europe/Berlin")),
    }
}

/// Refuses a list argument longer than `max` (BAD_USER_INPUT on `field`), before any of it
/// reaches the database.
pub fn at_most(len: usize, max: usize, field: &str) -> AppResult<()> {
    if len > max { Err(AppError::bad_input(field, format!("give at most {max} items"))) } else { Ok(()) }
}

/// A skill name: trimmed, lower-case, 1–50 of letters, digits, space and `+#.-`.
pub fn skill_name(raw: &str, field: &str) -> AppResult<String> {
    let skill = raw.trim().to_lowercase();
    let ok = (1..=50).contains(&skill.chars().count())
        && skill.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '+' | '#' | '.' | '-'));
    if ok { Ok(skill) } else { Err(AppError::bad_input(field, "must be 1-50 letters, digits, spaces or +#.-")) }
}

/// A skill level from 1 (beginner) to 5 (expert).
pub fn skill_level(level: i32, field: &str) -> AppResult<i16> {
    i16::try_from(level)
        .ok()
        .filter(|l| (1..=5).contains(l))
        .ok_or_else(|| AppError::bad_input(field, "must be between 1 and 5"))
}

/// An optional http(s) URL of at most `max` characters.
pub fn optional_url(raw: Option<&str>, field: &str, max: usize) -> AppResult<Option<String>> {
    let url = optional_text(raw, field, max, false)?;
    if let Some(u) = &url
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        return Err(AppError::bad_input(field, "must be an http or https URL"));
    }
    Ok(url)
}

/// A required http(s) URL with a host, of at most 2,000 characters (where the provider sends a
/// person back).
pub fn http_url(raw: &str, field: &str) -> AppResult<String> {
    let url = optional_url(Some(raw), field, 2_000)?;
    let has_host = url.as_deref().and_then(|u| u.split_once("://")).is_some_and(|(_, rest)| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.contains(char::is_whitespace)
    });
    match url {
        Some(url) if has_host => Ok(url),
        _ => Err(AppError::bad_input(field, "must be an http or https URL with a host")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of<T>(r: AppResult<T>) -> Option<String> {
        r.err().and_then(|e| e.field().map(str::to_owned))
    }

    #[test]
    fn emails_are_normalised_and_checked() -> AppResult<()> {
        assert_eq!(Email::parse("  Ada@Example.COM ", "email")?.as_str(), "ada@example.com");
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a da@example.com", "a@b@c.com", "ada@-x.com"] {
            assert_eq!(field_of(Email::parse(bad, "email")), Some("email".into()), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn passwords_need_ten_characters() {
        assert!(Password::parse("123456789", "password").is_err());
        assert!(Password::parse("1234567890", "password").is_ok());
        assert!(Password::parse("ééééééééééé", "password").is_ok());
    }

    #[test]
    fn handles_follow_the_pattern() -> AppResult<()> {
        assert_eq!(Handle::parse("Ada_99", "handle")?.as_str(), "ada_99");
        for bad in ["ab", "9lives", "has space", "dash-ed", &"x".repeat(33)] {
            assert!(Handle::parse(bad, "handle").is_err(), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn slugs_skills_levels_and_currencies() {
        assert!(Slug::parse("acme-corp", "slug").is_ok());
        assert!(Slug::parse("-acme", "slug").is_err());
        assert_eq!(skill_name(" Rust ", "s").ok(), Some("rust".into()));
        assert!(skill_level(0, "l").is_err() && skill_level(6, "l").is_err() && skill_level(5, "l").is_ok());
        assert_eq!(currency("eur", "c").ok(), Some("EUR".into()));
        assert!(currency("EURO", "c").is_err());
        assert!(timezone("Europe/Berlin", "tz").is_ok() && timezone("not a zone", "tz").is_err());
        assert!(timezone("Mars/Olympus_Mons", "tz").is_err(), "the right shape, but no such zone");
        assert_eq!(timezone(" Asia/Kolkata ", "tz").ok().as_deref(), Some("Asia/Kolkata"));
    }
}
