//! lobbywatch's integration tests: the real server on port 0, real clients.

mod backend;
mod browser;
mod capacity;
mod cli;
mod connections;
mod copy_log;
mod crash;
mod data_dir;
mod errors;
mod events;
mod helpers;
mod instances;
mod layers;
mod limits;
mod live;
mod logs;
mod metrics;
mod openapi;
mod opening_hours;
mod operations;
mod reload;
mod reports;
mod restart;
mod retention;
mod stations;
mod tokens;
