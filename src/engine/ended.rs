//! The day's ended linked tickets, shared with every ticket board without copying.
//!
//! A ticket's page says how it ended (served, left, closed for the day …) until the day rolls
//! over, so the station remembers every linked ticket that left today — thousands at a busy
//! station. The documents published with each event carry them too, and copying thousands of
//! entries per event would make an event's cost grow with the day. So entries are kept in
//! frozen chunks shared by reference (a board's copy is a few pointers and the newest, unfrozen
//! few), and only inserted, never changed, until the day's roll-over clears them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::state::Ended;
use crate::domain::ticket_link::LinkHash;

/// Entries gathered before they are frozen into a shared chunk.
const CHUNK: usize = 64;

/// Ended tickets by their link's hash.
#[derive(Debug, Clone, Default)]
pub struct EndedTickets {
    frozen: Vec<Arc<HashMap<LinkHash, Ended>>>,
    recent: HashMap<LinkHash, Ended>,
}

impl EndedTickets {
    pub(super) fn insert(&mut self, link: LinkHash, ended: Ended) {
        self.recent.insert(link, ended);
        if self.recent.len() >= CHUNK {
            self.frozen.push(Arc::new(std::mem::take(&mut self.recent)));
        }
    }

    pub(super) fn get(&self, link: &LinkHash) -> Option<&Ended> {
        self.recent
            .get(link)
            .or_else(|| self.frozen.iter().find_map(|chunk| chunk.get(link)))
    }

    pub(super) fn clear(&mut self) {
        self.frozen.clear();
        self.recent.clear();
    }

    fn iter(&self) -> impl Iterator<Item = (&LinkHash, &Ended)> {
        self.frozen
            .iter()
            .flat_map(|chunk| chunk.iter())
            .chain(self.recent.iter())
    }

    fn len(&self) -> usize {
        self.frozen.iter().map(|c| c.len()).sum::<usize>() + self.recent.len()
    }
}

/// The same entries, however they are chunked (a station restored from a snapshot chunks them
/// afresh).
impl PartialEq for EndedTickets {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(link, e)| other.get(link) == Some(e))
    }
}

/// Stored as one map in hash order, so a snapshot's bytes do not depend on the chunking.
impl Serialize for EndedTickets {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let sorted: BTreeMap<&LinkHash, &Ended> = self.iter().collect();
        sorted.serialize(s)
    }
}

impl<'de> Deserialize<'de> for EndedTickets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<LinkHash, Ended>::deserialize(d)?;
        let mut ended = EndedTickets::default();
        for (link, e) in map {
            ended.insert(link, e);
        }
        Ok(ended)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::ticket_link::LinkCode;
    use crate::domain::{ServiceId, Ticket};
    use crate::engine::Ending;

    fn ended(n: u32) -> Ended {
        Ended {
            ticket: Ticket::new('P', n),
            service: ServiceId::parse("passport").unwrap(),
            how: Ending::Served,
            at: Utc::now(),
        }
    }

    #[test]
    fn entries_are_found_across_chunks_and_survive_a_round_trip() {
        let mut all = EndedTickets::default();
        let links: Vec<LinkHash> = (0..200).map(|_| LinkCode::generate().hash()).collect();
        for (n, link) in links.iter().enumerate() {
            all.insert(*link, ended(n as u32 + 1));
        }
        assert_eq!(all.frozen.len(), 3);
        assert_eq!(all.get(&links[5]).unwrap().ticket, Ticket::new('P', 6));
        assert_eq!(all.get(&links[199]).unwrap().ticket, Ticket::new('P', 200));
        let json = serde_json::to_string(&all).unwrap();
        let back: EndedTickets = serde_json::from_str(&json).unwrap();
        assert_eq!(back, all);
        all.clear();
        assert_eq!(all.get(&links[5]), None);
    }
}
