//! How a station treats parties that wait elsewhere (`[stations.remote]`): when their page says
//! "start walking now", how long an admitted one has to arrive, how far "I need more time" moves
//! one back, and whether the public may join the queue before arriving.

/// A station's rules for remote parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// A party waiting elsewhere is told to start walking when it is this many places or fewer
    /// from the room.
    pub notify_ahead: u32,
    /// An admitted party waiting elsewhere has this many minutes to arrive before it is dropped
    /// and its room goes to the next.
    pub come_back_min: u32,
    /// "I need more time" moves a party back this many places (once).
    pub more_time_places: u32,
    /// Whether the public page may join the queue before arriving.
    pub join: bool,
    /// Joins per service per day.
    pub join_quota: u32,
    /// When joining is open, as minutes after midnight `(start, end)`; `None`: the service's
    /// own hours.
    pub join_hours: Option<(u16, u16)>,
    /// The code on the poster at the entrance, which a visitor's page must show to say it has
    /// arrived; without one only the desk marks arrivals.
    pub entrance_code: Option<String>,
}

impl Default for Remote {
    fn default() -> Self {
        Self {
            notify_ahead: 3,
            come_back_min: 10,
            more_time_places: 3,
            join: false,
            join_quota: 20,
            join_hours: None,
            entrance_code: None,
        }
    }
}
