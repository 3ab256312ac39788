//! Integration tests over real HTTP and a real PostgreSQL database per test.
//! One test binary (not one per file): each links the whole app, so this
//! keeps build time and disk use down.

mod abuse;
mod account_security;
mod accounts_tab;
mod api_keys;
mod audit;
mod auth;
mod bulk;
mod citus;
mod directory;
mod email_change;
mod guard;
mod hardening;
mod headers;
mod helpers;
mod impersonation;
mod invitations;
mod lifecycle;
mod mail;
mod no_workspace;
mod profile;
mod request_ids;
mod rest;
mod roles;
mod scim;
mod security;
mod static_files;
mod time;
mod two_factor;
