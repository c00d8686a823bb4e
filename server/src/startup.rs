//! Wiring: open the store (checking or migrating its schema), build the router, bind the
//! listener.

use std::{net::SocketAddr, sync::Arc};

use leptos::prelude::LeptosOptions;
use leptos_config::Env;
use tokio::net::TcpListener;

use crate::{
    aws::{AwsProvider, AwsSettings, CatalogCheck},
    config::ProviderKind,
    config::{ControlPlaneConfig, ServeConfig},
    http::{self, AppState},
    reconciler::{self, Provider, Simulator},
    services::{Clock, ServiceConfig, Services},
    store::{SchemaCheck, Store},
};

/// The services for a store, configured as the operator asked.
pub fn services(
    config: &ControlPlaneConfig,
    store: Store,
    clock: Clock,
) -> anyhow::Result<Services> {
    let catalog = config.region_catalog()?;
    let service_config = ServiceConfig {
        endpoint_limit: config.endpoint_limit,
        hostname_domain: config
            .hostname_domain
            .trim()
            .trim_matches('.')
            .to_ascii_lowercase(),
        session_idle_ms: config.session_idle_minutes * 60_000,
        session_absolute_ms: config.session_max_hours * 3_600_000,
        proxy_live_window_ms: config.proxy_live_window_ms,
        evidence_per_project: config.evidence_per_project,
        evidence_retention_ms: config.evidence_retention_hours * 3_600_000,
        webhooks_allow_private: config.webhooks_allow_private_addresses,
        webhook_retry_base_ms: config.webhook_retry_base_ms,
        webhook_give_up_ms: config.webhook_give_up_minutes * 60_000,
    };
    Ok(Services::new(store, catalog, service_config, clock))
}

/// Connects to the database and checks that its schema is one this binary can serve: every
/// migration it carries applied (newer ones, from a newer binary during a rolling upgrade,
/// are fine). Migrating is a separate, explicit step: [`open_and_migrate`].
pub async fn open_store(database_url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(database_url).await?;
    if let Some((journal, synchronous)) = store.sqlite_durability().await? {
        tracing::info!(%journal, %synchronous, "SQLite durability");
    }
    match store.check_schema().await? {
        SchemaCheck::Current { .. } => {}
        SchemaCheck::Ahead {
            version,
            newest_known,
        } => tracing::warn!(
            version,
            newest_known,
            "the database schema is newer than this binary (a newer release migrated it); \
             serving, since migrations only add"
        ),
        SchemaCheck::Behind { missing } => anyhow::bail!(
            "the database schema is behind this binary (migrations {} not applied): run \
             `enclave migrate` first, or start with `enclave serve --migrate`",
            missing
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
    Ok(store)
}

/// Connects and applies pending migrations under the migration lock: `enclave migrate`,
/// `serve --migrate`, and tests.
pub async fn open_and_migrate(database_url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(database_url).await?;
    store.migrate().await?;
    Ok(store)
}

/// Opens the store ([`open_store`]) and builds the services: what `serve` and every operator
/// command start with.
pub async fn open_services(
    database: &crate::config::DatabaseConfig,
    control_plane: &ControlPlaneConfig,
    clock: Clock,
) -> anyhow::Result<(Store, Services)> {
    let store = open_store(&database.database_url).await?;
    let services = services(control_plane, store.clone(), clock)?;
    Ok((store, services))
}

/// A bound, ready-to-run server. Tests build one on `127.0.0.1:0` and read the port back.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: Store,
    services: Services,
    reconcile_interval: std::time::Duration,
    provider: Box<dyn Provider>,
    /// Tells long-lived responses (live-status streams) that the server is stopping.
    stopping: tokio::sync::watch::Sender<bool>,
    /// A proxy to run beside the server (`--embedded-proxy`).
    embedded_proxy: Option<crate::proxy::Proxy>,
    limits: http::serve::ConnectionLimits,
    leadership: reconciler::Leadership,
}

impl Application {
    /// Connects to the database (migrating first when `--migrate` asks), checks its schema
    /// and binds the listen address.
    pub async fn build(config: &ServeConfig) -> anyhow::Result<Self> {
        let store = if config.migrate {
            open_and_migrate(&config.database.database_url).await?
        } else {
            open_store(&config.database.database_url).await?
        };
        Self::build_with_store(config, store).await
    }

    /// Like [`Application::build`] over an already migrated store.
    pub async fn build_with_store(config: &ServeConfig, store: Store) -> anyhow::Result<Self> {
        Self::build_with_clock(config, store, Clock::system()).await
    }

    /// Like [`Application::build_with_store`] with a chosen clock (tests move time by hand).
    pub async fn build_with_clock(
        config: &ServeConfig,
        store: Store,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let services = services(&config.control_plane, store.clone(), clock)?;
        let provider = provider(config, &services).await?;
        let listener = TcpListener::bind(config.addr).await.map_err(|e| {
            anyhow::anyhow!(
                "could not listen on {}: {e} (set ENCLAVE_ADDR or --addr to a free address)",
                config.addr
            )
        })?;
        let local_addr = listener.local_addr()?;
        let leptos_options = leptos_options(config, local_addr);
        let (stopping, stopping_rx) = tokio::sync::watch::channel(false);
        let mut data_plane_token = config.data_plane_token.clone().filter(|t| !t.is_empty());
        if config.embedded_proxy.is_some() && data_plane_token.is_none() {
            data_plane_token = Some(uuid::Uuid::new_v4().simple().to_string());
        }
        let embedded_proxy = match (config.embedded_proxy, &data_plane_token) {
            (Some(listen), Some(token)) => {
                let proxy_config = crate::proxy::ProxyConfig::embedded(
                    listen,
                    &format!("http://{local_addr}"),
                    token,
                );
                Some(crate::proxy::Proxy::bind(&proxy_config).await?)
            }
            _ => None,
        };
        let state = AppState::new(http::AppParts {
            stopping: stopping_rx,
            leptos_options,
            services: services.clone(),
            data_plane_token: data_plane_token.map(std::sync::Arc::<str>::from),
            front_door: http::console::csrf::FrontDoor {
                force_secure: config.secure_cookies,
                client_address_header: config
                    .client_address_header
                    .as_deref()
                    .map(|name| {
                        axum::http::HeaderName::try_from(name.trim()).map_err(|_| {
                            anyhow::anyhow!(
                                "--client-address-header {name:?} is not a header name (e.g. \
                                 X-Forwarded-For or X-Real-IP)"
                            )
                        })
                    })
                    .transpose()?,
            },
            live_streams: Default::default(),
            request_timeout: std::time::Duration::from_millis(config.request_timeout_ms),
        });
        Ok(Self {
            listener,
            router: http::router(state),
            store,
            services,
            reconcile_interval: std::time::Duration::from_millis(
                config.reconciler.reconcile_interval_ms.max(10),
            ),
            provider,
            stopping,
            embedded_proxy,
            leadership: reconciler::Leadership::for_this_process(std::time::Duration::from_millis(
                config.reconciler.leader_lease_ms,
            )),
            limits: http::serve::ConnectionLimits {
                max_connections: config.max_connections as usize,
                header_read_timeout: std::time::Duration::from_millis(
                    config.header_read_timeout_ms,
                ),
            },
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves (with the reconciler running beside it) until Ctrl-C or SIGTERM, then finishes
    /// in-flight requests, stops the reconciler and closes the store.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let webhooks = tokio::spawn(crate::webhooks::run(
            self.services.clone(),
            self.leadership.clone(),
            stop_rx.clone(),
        ));
        let reconciler = tokio::spawn(reconciler::run(
            self.services.clone(),
            self.provider,
            self.reconcile_interval,
            self.leadership,
            stop_rx,
        ));
        let proxy = self.embedded_proxy.map(|proxy| {
            tracing::info!(addr = %proxy.local_addr(), "embedded data-plane proxy listening");
            tokio::spawn(proxy.run())
        });
        http::serve::serve(self.listener, self.router, self.limits, {
            let stopping = self.stopping.clone();
            async move {
                shutdown_signal().await;
                // Open event streams end now, or they would hold the shutdown open.
                let _ = stopping.send(true);
            }
        })
        .await;
        let _ = stop_tx.send(true);
        let _ = reconciler.await;
        let _ = webhooks.await;
        if let Some(proxy) = proxy {
            proxy.abort();
        }
        self.store.close().await;
        Ok(())
    }
}

/// The provider the operator chose. With AWS, the catalog is checked first: a wrong entry
/// stops the start with a message naming it; AWS being unreachable (credentials,
/// permissions, network) does not, but shows as provider health and nothing is accepted
/// until a later check passes.
async fn provider(config: &ServeConfig, services: &Services) -> anyhow::Result<Box<dyn Provider>> {
    let provider = chosen_provider(config, services).await?;
    services.set_provider_name(provider.name());
    Ok(provider)
}

async fn chosen_provider(
    config: &ServeConfig,
    services: &Services,
) -> anyhow::Result<Box<dyn Provider>> {
    match config.reconciler.provider {
        ProviderKind::Simulator => Ok(Box::new(Simulator::from_config(&config.reconciler))),
        ProviderKind::Aws => {
            let settings = AwsSettings {
                endpoint_url: config.reconciler.aws_endpoint_url.clone(),
                profile: config.reconciler.aws_profile.clone(),
                max_attempts: config.reconciler.aws_max_attempts,
            };
            let provider = AwsProvider::connect(services.catalog(), &settings).await?;
            match provider.check_catalog().await {
                CatalogCheck::Verified => {
                    tracing::info!(
                        "AWS endpoint services checked: all exist and require acceptance"
                    );
                }
                CatalogCheck::Bad(message) => {
                    anyhow::bail!("the region catalog does not match AWS: {message}")
                }
                CatalogCheck::Unverified(message) => {
                    tracing::error!(%message, "could not check the endpoint services in AWS; nothing is accepted until a check passes (see the operator area)");
                }
            }
            Ok(Box::new(provider))
        }
    }
}

/// Leptos settings for a release deployment: the site root comes from configuration, the
/// output name is fixed (it names the `pkg/enclave.*` files), and no dev auto-reload. A
/// release build (`cargo leptos build --release`, `hash-files`) puts the files' content hashes
/// in `hash.txt` beside the binary; with it the pages link `pkg/enclave.<hash>.*`, which are
/// then served as immutable.
fn leptos_options(config: &ServeConfig, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(Arc::<str>::from("enclave"))
        .site_root(Arc::<str>::from(config.site_root.as_str()))
        .site_pkg_dir(Arc::<str>::from("pkg"))
        .env(Env::PROD)
        .site_addr(addr)
        .hash_files(hash_file_beside_binary())
        .build()
}

/// Whether the build wrote the asset hashes beside this binary (Leptos reads them from there).
pub fn hash_file_beside_binary() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
        .is_some_and(|path| path.is_file())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
