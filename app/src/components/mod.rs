//! Small components shared by several pages.

pub mod change_form;
pub mod copy;
pub mod endpoint_form;
pub mod live;
pub mod page_scripts;
pub mod session;
pub mod ways;
