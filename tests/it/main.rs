//! The integration tests, one binary: each module is one area, against the real store, the real
//! HTTP stack and, where a test says so, the real `claimgraph` binary and real clients. One binary
//! links RocksDB once, and the areas share `common`'s set-up.

mod abuse;
mod appearances;
mod auth;
mod browser;
mod claims;
mod cli;
mod clients;
mod common;
mod crash;
mod drafting;
mod export;
mod faults;
mod graph_store;
mod import;
mod limits;
mod linked_data;
mod provenance;
mod queries;
mod questions;
mod replicas;
mod search;
mod sheets;
mod sparql;
mod synth;
mod w3c;
