//! Small components shared by several pages.

pub mod session;
