//! lobbywatch's integration tests: the real server on port 0, real clients.

mod capacity;
mod errors;
mod events;
mod helpers;
mod live;
mod restart;
mod stations;
