//! Plain-word search over names and descriptions (communities, events): every word must occur
//! in one of the searched columns, case-insensitively. Gigs have full-text search of their own.
use sea_orm::{
    Condition,
    sea_query::{Expr, ExprTrait, Func},
};

use crate::error::{AppError, AppResult};

/// Splits search text into plain words (letters and digits, lower-cased), at most 10; `field`
/// names the input on error.
pub fn words(text: &str, field: &str) -> AppResult<Vec<String>> {
    if text.chars().count() > 200 {
        return Err(AppError::bad_input(field, "must be at most 200 characters"));
    }
    Ok(text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).take(10).collect())
}

/// Rows where each word occurs in at least one of `columns` (words hold no LIKE wildcards:
/// [`words`] keeps letters and digits only).
pub fn all_words_in<C: sea_orm::sea_query::IntoColumnRef + Copy>(columns: &[C], words: &[String]) -> Condition {
    words.iter().fold(Condition::all(), |all, word| {
        let pattern = format!("%{word}%");
        all.add(columns.iter().fold(Condition::any(), |any, column| {
            any.add(Expr::expr(Func::lower(Expr::col(*column))).like(pattern.clone()))
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn search_text_becomes_at_most_ten_plain_lowercase_words() {
        assert_eq!(words("Rust% _meetup_ BERLIN", "search").unwrap(), ["rust", "meetup", "berlin"]);
        assert_eq!(words("a b c d e f g h i j k l", "search").unwrap().len(), 10);
        assert_eq!(words(&"x".repeat(201), "search").unwrap_err().field(), Some("search"));
    }
}
