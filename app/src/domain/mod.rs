//! Domain types shared by the browser and the server. Pure data and parsing: no I/O.

pub mod ids;
pub mod status;

pub use ids::{FieldError, Label, OrgId, ProjectId, RegionId, VpcEndpointId};
pub use status::{DatabaseBackend, SystemStatus};
