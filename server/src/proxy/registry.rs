//! The connections a proxy is relaying, so a change can end those it now forbids. Bounded by
//! the proxy's connection limit; per-project counts enforce the per-project limit.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::oneshot;

/// One relayed connection.
pub struct OpenConn {
    pub project_id: String,
    pub org_id: String,
    /// The host label it named (without `-pooler`): the route to re-check.
    pub label: String,
    pub vpc_endpoint_id: Option<String>,
    /// The client's address (an IP allow list is judged on it).
    pub client_ip: std::net::IpAddr,
    kill: Mutex<Option<oneshot::Sender<String>>>,
}

impl OpenConn {
    /// Ends the connection with `message`; answers whether it was still open.
    pub fn end(&self, message: String) -> bool {
        match self.kill.lock().ok().and_then(|mut k| k.take()) {
            Some(tx) => tx.send(message).is_ok(),
            None => false,
        }
    }
}

#[derive(Default)]
struct Inner {
    next: u64,
    open: HashMap<u64, Arc<OpenConn>>,
    per_project: HashMap<String, usize>,
}

#[derive(Default)]
pub struct Registry {
    inner: Mutex<Inner>,
}

/// A registered connection; dropping it unregisters.
pub struct Registration {
    registry: Arc<Registry>,
    id: u64,
    project_id: String,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.registry.inner.lock() {
            inner.open.remove(&self.id);
            if let Some(n) = inner.per_project.get_mut(&self.project_id) {
                *n -= 1;
                if *n == 0 {
                    inner.per_project.remove(&self.project_id);
                }
            }
        }
    }
}

impl Registry {
    /// Registers a connection unless its project already has `per_project_limit` open here.
    /// Returns the registration and the receiver that fires when it must end.
    pub fn register(
        self: &Arc<Self>,
        project_id: &str,
        org_id: &str,
        label: &str,
        vpc_endpoint_id: Option<&str>,
        client_ip: std::net::IpAddr,
        per_project_limit: usize,
    ) -> Option<(Registration, oneshot::Receiver<String>)> {
        let mut inner = self.inner.lock().ok()?;
        let count = inner.per_project.entry(project_id.to_string()).or_default();
        if *count >= per_project_limit {
            return None;
        }
        *count += 1;
        inner.next += 1;
        let id = inner.next;
        let (tx, rx) = oneshot::channel();
        inner.open.insert(
            id,
            Arc::new(OpenConn {
                project_id: project_id.to_string(),
                org_id: org_id.to_string(),
                label: label.to_string(),
                vpc_endpoint_id: vpc_endpoint_id.map(str::to_owned),
                client_ip,
                kill: Mutex::new(Some(tx)),
            }),
        );
        Some((
            Registration {
                registry: self.clone(),
                id,
                project_id: project_id.to_string(),
            },
            rx,
        ))
    }

    /// Open connections of a project, or of every project of an organization (both `None`:
    /// all of them).
    pub fn affected(&self, org_id: Option<&str>, project_id: Option<&str>) -> Vec<Arc<OpenConn>> {
        let Ok(inner) = self.inner.lock() else {
            return Vec::new();
        };
        inner
            .open
            .values()
            .filter(|c| match (project_id, org_id) {
                (Some(p), _) => c.project_id == p,
                (None, Some(o)) => c.org_id == o,
                (None, None) => true,
            })
            .cloned()
            .collect()
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.open.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCALHOST: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn per_project_limit_and_unregistering() {
        let registry = Arc::new(Registry::default());
        let a = registry
            .register("p1", "o1", "ep-a", None, LOCALHOST, 2)
            .unwrap();
        let _b = registry
            .register("p1", "o1", "ep-a", None, LOCALHOST, 2)
            .unwrap();
        assert!(registry
            .register("p1", "o1", "ep-a", None, LOCALHOST, 2)
            .is_none());
        assert!(registry
            .register("p2", "o1", "ep-b", None, LOCALHOST, 2)
            .is_some());
        assert_eq!(registry.affected(Some("o1"), None).len(), 2);
        drop(a);
        assert_eq!(registry.affected(None, Some("p1")).len(), 1);
        assert!(registry
            .register("p1", "o1", "ep-a", None, LOCALHOST, 2)
            .is_some());
    }

    #[test]
    fn ending_fires_once() {
        let registry = Arc::new(Registry::default());
        let (_reg, mut rx) = registry
            .register("p1", "o1", "ep-a", None, LOCALHOST, 1)
            .unwrap();
        let conn = registry.affected(None, Some("p1")).pop().unwrap();
        assert!(conn.end("why".into()));
        assert!(!conn.end("again".into()));
        assert_eq!(rx.try_recv().unwrap(), "why");
    }
}
