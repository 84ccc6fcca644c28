//! `Messages::search_messages`. Ranking differs between the stores (bm25, `ts_rank`): these
//! cases check the set found, and the order only among equally ranked matches.

use confab_domain::{GroupId, Message, MessageId, UserId};
use confab_ports::Error;

use crate::fixtures::{Fresh, T0, at, group, user};
use crate::messages::{body, room, send};

crate::store_cases!(
    search_finds_the_messages_holding_every_term,
    search_matches_whole_words_ignoring_case_and_diacritics,
    search_covers_only_the_callers_groups,
    search_in_one_group_finds_only_that_group,
    search_in_an_unknown_group_or_as_a_non_member_is_not_found,
    search_never_finds_deleted_messages,
    search_finds_an_edited_message_by_its_new_words_only,
    search_returns_at_most_limit,
    equally_ranked_matches_come_newest_first,
    both_stores_find_words_by_the_one_definition,
);

/// What `who` finds for `terms` (split at spaces), as a sorted list of ids.
async fn found(s: &Fresh, who: UserId, terms: &str, group: Option<GroupId>) -> Vec<MessageId> {
    let mut ids = ids(&search(s, who, terms, group, 100).await);
    ids.sort_unstable();
    ids
}

async fn search(
    s: &Fresh,
    who: UserId,
    terms: &str,
    group: Option<GroupId>,
    limit: u32,
) -> Vec<Message> {
    let terms = terms.split(' ').map(str::to_owned).collect();
    s.messages
        .search_messages(who, terms, group, limit)
        .await
        .unwrap()
}

fn ids(messages: &[Message]) -> Vec<MessageId> {
    messages.iter().map(|m| m.id).collect()
}

fn sorted(mut ids: Vec<MessageId>) -> Vec<MessageId> {
    ids.sort_unstable();
    ids
}

async fn search_finds_the_messages_holding_every_term(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let rust_fast = send(s, g, a, "rust is fast").await.id;
    let rust_safe = send(s, g, a, "Rust is safe, and fast enough").await.id;
    let go_fast = send(s, g, a, "go is fast").await.id;
    assert_eq!(
        found(s, a, "rust", None).await,
        sorted(vec![rust_fast, rust_safe])
    );
    assert_eq!(
        found(s, a, "fast rust", None).await,
        sorted(vec![rust_fast, rust_safe])
    );
    assert_eq!(found(s, a, "rust safe", None).await, vec![rust_safe]);
    assert_eq!(found(s, a, "go fast", None).await, vec![go_fast]);
    assert_eq!(
        found(s, a, "is", None).await,
        sorted(vec![rust_fast, rust_safe, go_fast])
    );
    assert!(found(s, a, "rust java", None).await.is_empty());
    assert!(found(s, a, "java", None).await.is_empty());
}

async fn search_matches_whole_words_ignoring_case_and_diacritics(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let upper = send(s, g, a, "Meet at the CAFÉ").await.id;
    let accented = send(s, g, a, "un café, au lait").await.id;
    let plain = send(s, g, a, "Cafe!").await.id;
    send(s, g, a, "the cafeteria").await;
    let naive = send(s, g, a, "a Naïve question").await.id;
    let both = sorted(vec![upper, accented, plain]);
    assert_eq!(found(s, a, "cafe", None).await, both);
    assert_eq!(found(s, a, "café", None).await, both);
    assert!(
        found(s, a, "caf", None).await.is_empty(),
        "no prefix matching"
    );
    assert_eq!(found(s, a, "naive", None).await, vec![naive]);
    assert_eq!(found(s, a, "naïve question", None).await, vec![naive]);
}

/// Groups the caller is not in, or left, are never searched; closed chats and expired rooms
/// are.
async fn search_covers_only_the_callers_groups(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let c = user(s, "carol").await;
    let mine = group(s, a, &[]).await;
    let theirs = group(s, b, &[c]).await;
    let left = group(s, b, &[a]).await;
    let in_mine = send(s, mine, a, "secret plan").await.id;
    send(s, theirs, b, "secret plan").await;
    send(s, left, b, "secret plan").await;
    s.groups.remove_member(b, left, a, at(1)).await.unwrap();
    let (view, _) = s
        .groups
        .open_direct(a, c, GroupId::new(), T0)
        .await
        .unwrap();
    let in_chat = send(s, view.group.id, c, "a secret plan").await.id;
    s.groups
        .delete_or_close(c, view.group.id, at(1))
        .await
        .unwrap();
    let r = room(s, a, c, at(60)).await;
    let in_room = send(s, r, c, "the secret plan").await.id;
    s.pool.sweep_expired(at(61)).await.unwrap();
    assert_eq!(
        found(s, a, "secret plan", None).await,
        sorted(vec![in_mine, in_chat, in_room])
    );
    let nobody = user(s, "dave").await;
    assert!(found(s, nobody, "secret", None).await.is_empty());
}

async fn search_in_one_group_finds_only_that_group(s: &Fresh) {
    let a = user(s, "alice").await;
    let (g1, g2) = (group(s, a, &[]).await, group(s, a, &[]).await);
    let one = send(s, g1, a, "lunch today").await.id;
    let two = send(s, g2, a, "lunch tomorrow").await.id;
    assert_eq!(found(s, a, "lunch", Some(g1)).await, vec![one]);
    assert_eq!(found(s, a, "lunch", Some(g2)).await, vec![two]);
    assert_eq!(found(s, a, "lunch", None).await, sorted(vec![one, two]));
    assert!(found(s, a, "today", Some(g2)).await.is_empty());
}

async fn search_in_an_unknown_group_or_as_a_non_member_is_not_found(s: &Fresh) {
    let a = user(s, "alice").await;
    let b = user(s, "bob").await;
    let g = group(s, b, &[a]).await;
    send(s, g, b, "hello").await;
    let terms = || vec!["hello".to_owned()];
    let r = s
        .messages
        .search_messages(a, terms(), Some(GroupId::new()), 10)
        .await;
    assert!(matches!(r, Err(Error::NotFound("group"))), "{r:?}");
    let stranger = user(s, "carol").await;
    let r = s
        .messages
        .search_messages(stranger, terms(), Some(g), 10)
        .await;
    assert!(matches!(r, Err(Error::NotFound("group"))), "{r:?}");
    s.groups.remove_member(b, g, a, at(1)).await.unwrap();
    let r = s.messages.search_messages(a, terms(), Some(g), 10).await;
    assert!(matches!(r, Err(Error::NotFound("group"))), "{r:?}");
}

async fn search_never_finds_deleted_messages(s: &Fresh) {
    let owner = user(s, "alice").await;
    let b = user(s, "bob").await;
    let g = group(s, owner, &[b]).await;
    let kept = send(s, g, b, "party tonight").await.id;
    let by_sender = send(s, g, b, "party at mine").await.id;
    let by_owner = send(s, g, b, "party for spammers").await.id;
    s.messages
        .delete_message(b, by_sender, at(1))
        .await
        .unwrap();
    s.messages
        .delete_message(owner, by_owner, at(1))
        .await
        .unwrap();
    for who in [owner, b] {
        assert_eq!(found(s, who, "party", None).await, vec![kept]);
        assert_eq!(found(s, who, "party", Some(g)).await, vec![kept]);
        assert!(found(s, who, "spammers", None).await.is_empty());
    }
}

async fn search_finds_an_edited_message_by_its_new_words_only(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let m = send(s, g, a, "see you at noon").await.id;
    s.messages
        .edit_message(a, m, body("see you at midnight"), at(1))
        .await
        .unwrap();
    assert!(found(s, a, "noon", None).await.is_empty());
    assert_eq!(found(s, a, "midnight", None).await, vec![m]);
    assert_eq!(found(s, a, "see you", Some(g)).await, vec![m]);
    let hit = search(s, a, "midnight", None, 10).await;
    assert_eq!(
        (hit[0].body.as_str(), hit[0].rev),
        ("see you at midnight", 2)
    );
}

async fn search_returns_at_most_limit(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let mut all = Vec::new();
    for i in 0..5 {
        all.push(send(s, g, a, &format!("ping number {i}")).await.id);
    }
    for limit in [1, 2, 4] {
        let hits = ids(&search(s, a, "ping", None, limit).await);
        assert_eq!(hits.len(), limit as usize);
        assert!(hits.iter().all(|id| all.contains(id)));
    }
    assert_eq!(
        sorted(ids(&search(s, a, "ping", None, 5).await)),
        sorted(all.clone())
    );
    assert_eq!(search(s, a, "ping", Some(g), 100).await.len(), 5);
}

/// The one order both stores share: among matches ranked alike (the same body), newest first.
async fn equally_ranked_matches_come_newest_first(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    for _ in 0..4 {
        send(s, g, a, "standup in five minutes").await;
    }
    let seqs = |hits: Vec<Message>| hits.iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(search(s, a, "standup", None, 10).await),
        vec![4, 3, 2, 1]
    );
    assert_eq!(
        seqs(search(s, a, "five standup", Some(g), 2).await),
        vec![4, 3]
    );
}

/// The same corpus and queries on both stores, with the same expected answers: accents, case,
/// compatibility forms, CJK, emoji and punctuation all go through `confab_domain::search_words`
/// on both sides, so SQLite and PostgreSQL find exactly the same messages.
async fn both_stores_find_words_by_the_one_definition(s: &Fresh) {
    let a = user(s, "alice").await;
    let g = group(s, a, &[]).await;
    let corpus = [
        "Meet at the Café at noon",
        "RÉSUMÉ attached, naïve draft",
        "ﬁnal Ｒust build",
        "東京 タワー に行きます",
        "launch🚀day #rust-lang",
        "e-mail me: bob@example.org",
        "Grüße aus Köln",
    ];
    let mut ids = Vec::new();
    for text in corpus {
        ids.push(send(s, g, a, text).await.id);
    }
    let cases: [(&str, &[usize]); 12] = [
        ("cafe", &[0]),
        ("CAFÉ", &[0]),
        ("resume naive", &[1]),
        ("final rust", &[2]),
        ("rust", &[2, 4]),
        ("東京", &[3]),
        ("タワー", &[3]),
        ("launch", &[4]),
        ("🚀", &[]),
        ("example.org", &[5]),
        ("gruße koln", &[6]),
        ("lang rust", &[4]),
    ];
    for (query, expected) in cases {
        let terms = confab_domain::search_words(query);
        let mut got = if terms.is_empty() {
            Vec::new()
        } else {
            ids_of(
                s.messages
                    .search_messages(a, terms, None, 100)
                    .await
                    .unwrap(),
            )
        };
        got.sort_unstable();
        let want = sorted(expected.iter().map(|&i| ids[i]).collect());
        assert_eq!(got, want, "query {query:?}");
    }
}

fn ids_of(messages: Vec<Message>) -> Vec<MessageId> {
    messages.into_iter().map(|m| m.id).collect()
}
