//! A message's words for full-text search as a tsvector, and a query as a tsquery: both made of
//! `confab_domain::search_words`, the one definition of a word both stores use. Folding in Rust
//! (rather than with PostgreSQL's `unaccent` extension) needs no extension to be installed, and
//! store and query are folded by the same function, so they always agree.

use confab_domain::search_words as words;

fn lexeme(word: &str) -> String {
    format!("'{}'", word.replace('\\', "\\\\").replace('\'', "''"))
}

/// `text` as tsvector input: each distinct word with the positions it occurs at, so ranking
/// sees how often a word occurs and how long the message is (as SQLite's bm25 does).
pub(crate) fn document(text: &str) -> String {
    let mut positions: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    // tsvector positions stop at 16383; a body is far shorter than that many words.
    for (i, word) in words(text).into_iter().enumerate().take(16_383) {
        positions.entry(word).or_default().push(i + 1);
    }
    positions
        .iter()
        .map(|(word, at)| {
            let at: Vec<String> = at.iter().map(usize::to_string).collect();
            format!("{}:{}", lexeme(word), at.join(","))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `tsquery` matching every term, as tsquery input text: each folded word a quoted lexeme, so
/// nothing is ever read as query syntax (the words hold only letters and digits anyway).
pub(crate) fn query(terms: &[String]) -> String {
    terms
        .iter()
        .flat_map(|t| words(t))
        .map(|w| lexeme(&w))
        .collect::<Vec<_>>()
        .join(" & ")
}

#[cfg(test)]
mod tests {
    use super::{document, query};

    #[test]
    fn words_are_folded_split_and_placed() {
        assert_eq!(
            document("Meet at the Café, at noon! naïve RÉSUMÉ"),
            "'at':2,5 'cafe':4 'meet':1 'naive':7 'noon':6 'resume':8 'the':3"
        );
        assert_eq!(document(""), "");
        assert_eq!(document("!!! ,,,"), "");
    }

    #[test]
    fn long_words_are_cut_alike_on_both_sides() {
        let word = "é".repeat(4000);
        let doc = document(&word);
        assert!(doc.len() < 2100, "{}", doc.len());
        assert_eq!(query(&[word]), doc.trim_end_matches(":1"));
    }

    #[test]
    fn every_term_is_a_quoted_lexeme() {
        assert_eq!(query(&["CAFÉ".into(), "noon".into()]), "'cafe' & 'noon'");
        assert_eq!(query(&["a'b".into()]), "'a' & 'b'");
    }
}
