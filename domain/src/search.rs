//! What a search word is, defined once: both stores index a message by these words and look a
//! query up by them, so SQLite and PostgreSQL find the same messages. A word is a run of
//! letters and digits after folding: compatibility decomposition (NFKD: `ﬁ` → `fi`, `Ｒ` →
//! `R`), combining marks removed (`é` → `e`), lower case. Everything else — spaces,
//! punctuation, symbols, emoji — separates words. A run of CJK characters with no space in it
//! is one word, as the text itself does not say where its words end.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Longest word kept, in bytes (PostgreSQL refuses lexemes of 2 KiB or more); longer words are
/// cut alike when indexed and when searched, so they are still found.
pub const MAX_WORD_BYTES: usize = 2000;

/// Lower case, compatibility-decomposed, combining marks removed.
fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The first [`MAX_WORD_BYTES`] bytes of `word`, cut at a character boundary.
fn cut(word: &str) -> &str {
    let mut end = word.len().min(MAX_WORD_BYTES);
    while !word.is_char_boundary(end) {
        end -= 1;
    }
    &word[..end]
}

/// The search words of `text`, in order (repeats kept).
pub fn search_words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| cut(w).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn words_are_folded_and_split_at_everything_but_letters_and_digits() {
        assert_eq!(
            search_words("Meet at the Café, at noon! naïve RÉSUMÉ v2"),
            [
                "meet", "at", "the", "cafe", "at", "noon", "naive", "resume", "v2"
            ]
        );
        assert_eq!(search_words("ﬁne Ｒust"), ["fine", "rust"]);
        assert_eq!(search_words("Grüße, ÄRGER"), ["gruße", "arger"]);
        assert_eq!(
            search_words("rocket🚀launch #rust-lang"),
            ["rocket", "launch", "rust", "lang"]
        );
        assert_eq!(search_words("東京 タワー"), ["東京", "タワー"]);
        assert!(search_words("!!! ,,, 🎉").is_empty());
    }

    #[test]
    fn operators_and_quotes_are_never_words() {
        assert_eq!(
            search_words(r#""rust" OR c* NEAR(go) -java ^x {y}:z"#),
            ["rust", "or", "c", "near", "go", "java", "x", "y", "z"]
        );
    }

    #[test]
    fn long_words_are_cut_at_a_character_boundary() {
        let word = "é".repeat(4000);
        let words = search_words(&word);
        assert_eq!(words.len(), 1);
        assert!(words[0].len() <= MAX_WORD_BYTES);
        assert!(words[0].chars().all(|c| c == 'e'));
    }

    proptest! {
        #[test]
        fn folding_is_idempotent_and_words_hold_only_letters_and_digits(s in "\\PC{0,40}") {
            for w in search_words(&s) {
                prop_assert!(!w.is_empty());
                prop_assert!(w.chars().all(char::is_alphanumeric));
                prop_assert_eq!(search_words(&w), vec![w.clone()]);
            }
        }
    }
}
