//! The vocabulary of lobbywatch: identifiers parsed at the edge, the events terminals and guards
//! send, the alerts raised for guards, and the status documents the service publishes.
//!
//! Everything here is plain data. Values are validated when they are constructed (parse, don't
//! validate), so the engine and the handlers only ever see well-formed identifiers and sizes.

pub mod alert;
pub mod booking;
pub mod event;
pub mod ids;
pub mod message;
pub mod reasons;
pub mod rule;
pub mod status;
pub mod ticket;
pub mod ticket_link;
pub mod timestamp;

pub use alert::{Alert, AlertState, Condition};
pub use event::{Event, Recorded};
pub use ids::{
    DeskId, DeviceId, DistrictId, PartySize, SERVICE_DEVICE, ServiceId, StationId, Ticket,
};
