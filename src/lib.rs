//! Duet's frontend.
