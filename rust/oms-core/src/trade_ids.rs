//! `TradeIds`: the trade ids applied to one order, so a fill reported twice is applied
//! once. Most orders fill a few times, so the ids sit in a short list (one small
//! allocation, searched in a few compares); past `LIST_MAX` they move to a hash set,
//! so an order filled in thousands of pieces still checks each fill in O(1).

use std::collections::HashSet;
use std::sync::Arc;

/// Ids a list holds before it becomes a set.
const LIST_MAX: usize = 16;

#[derive(Clone, Debug, Default)]
pub struct TradeIds(Ids);

#[derive(Clone, Debug)]
enum Ids {
    List(Vec<Arc<str>>),
    Set(HashSet<Arc<str>>),
}

impl Default for Ids {
    fn default() -> Self {
        Ids::List(Vec::new())
    }
}

impl TradeIds {
    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// The id as kept (to share it), if it is there.
    pub fn get(&self, id: &str) -> Option<&Arc<str>> {
        match &self.0 {
            Ids::List(list) => list.iter().find(|kept| ***kept == *id),
            Ids::Set(set) => set.get(id),
        }
    }

    /// Adds `id`; false if it was there already.
    pub fn insert(&mut self, id: Arc<str>) -> bool {
        if self.contains(&id) {
            return false;
        }
        match &mut self.0 {
            Ids::List(list) if list.len() < LIST_MAX => {
                list.reserve_exact(if list.is_empty() { 1 } else { list.len() });
                list.push(id);
            }
            Ids::List(list) => {
                let mut set: HashSet<Arc<str>> = list.drain(..).collect();
                set.insert(id);
                self.0 = Ids::Set(set);
            }
            Ids::Set(set) => {
                set.insert(id);
            }
        }
        true
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Ids::List(list) => list.len(),
            Ids::Set(set) => set.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (list, set) = match &self.0 {
            Ids::List(list) => (Some(list.iter()), None),
            Ids::Set(set) => (None, Some(set.iter())),
        };
        list.into_iter()
            .flatten()
            .chain(set.into_iter().flatten())
            .map(|id| &**id)
    }
}

/// Equal when they hold the same ids, however they are kept.
impl PartialEq for TradeIds {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|id| other.contains(id))
    }
}

impl Eq for TradeIds {}

impl FromIterator<Arc<str>> for TradeIds {
    fn from_iter<I: IntoIterator<Item = Arc<str>>>(ids: I) -> Self {
        let mut out = TradeIds::default();
        for id in ids {
            out.insert(id);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the number of ids, it answers as a set does.
        #[test]
        fn it_answers_as_a_set(ids in proptest::collection::vec(0u16..60, 0..120)) {
            let mut kept = TradeIds::default();
            let mut set = HashSet::new();
            for id in &ids {
                let text = format!("T{id}");
                prop_assert_eq!(kept.insert(text.as_str().into()), set.insert(text));
            }
            prop_assert_eq!(kept.len(), set.len());
            for id in 0u16..60 {
                let text = format!("T{id}");
                prop_assert_eq!(kept.contains(&text), set.contains(&text));
                prop_assert_eq!(kept.get(&text).map(|k| k.to_string()), set.get(&text).cloned());
            }
            let mut listed: Vec<&str> = kept.iter().collect();
            listed.sort_unstable();
            let mut expected: Vec<&str> = set.iter().map(String::as_str).collect();
            expected.sort_unstable();
            prop_assert_eq!(listed, expected);
            let rebuilt: TradeIds = set.iter().map(|id| Arc::from(id.as_str())).collect();
            prop_assert_eq!(rebuilt, kept);
        }
    }
}
