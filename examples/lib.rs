//! Runnable programs; see `quickstart.rs`. (This library target is empty.)
