//! The JSON API's routes, declared once and used twice: served by the functions,
//! and described in the OpenAPI document.
//!
//! `utoipa_axum::routes!` builds each operation's description and schemas as it
//! routes it, which is what the document needs and what a function's start does
//! not: console-api spent 1.3 ms of its init, ingest-api 0.6 ms, building
//! descriptions it then dropped (`scripts/cold-start`, part `router`). [`api!`]
//! takes one list of handlers and writes two functions from it: one routes each
//! handler by the path and methods of its `#[utoipa::path]` (two cheap calls, no
//! schema), the other gives the `OpenApiRouter` the document is built from. A test
//! checks that what is served is exactly what is documented.

use axum::Router;
use axum::handler::Handler;
use axum::routing::MethodRouter;
use utoipa::openapi::path::HttpMethod;
use utoipa_axum::PathItemExt as _;

use super::AppState;

/// One path and the handlers of its methods.
#[derive(Default)]
pub struct Endpoint {
    pub path: String,
    pub methods: Vec<HttpMethod>,
    pub route: MethodRouter<AppState>,
}

impl Endpoint {
    /// `handler` on each of `methods` at `path` (every handler of one endpoint
    /// shares its path).
    pub fn with<H, T>(mut self, path: String, methods: Vec<HttpMethod>, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        debug_assert!(
            self.path.is_empty() || self.path == path,
            "handlers routed together share a path: {} and {path}",
            self.path
        );
        for method in &methods {
            self.route = self.route.on(method.to_method_filter(), handler.clone());
        }
        self.path = path;
        self.methods.extend(methods);
        self
    }
}

/// Routes served, and the list of what they are (for the test against the document).
#[derive(Default)]
pub struct Endpoints {
    pub router: Router<AppState>,
    pub list: Vec<(String, Vec<HttpMethod>)>,
}

impl Endpoints {
    pub fn add(self, endpoint: Endpoint) -> Self {
        let Endpoints { router, mut list } = self;
        list.push((endpoint.path.clone(), endpoint.methods));
        Endpoints {
            router: router.route(&endpoint.path, endpoint.route),
            list,
        }
    }
}

/// One path's [`Endpoint`] from its handlers, each written `module::function`: the
/// path and methods from the `__path_<function>` type `#[utoipa::path]` generates.
macro_rules! endpoint {
    ($($module:ident :: $handler:ident),+ $(,)?) => {
        paste::paste! {
            $crate::web::endpoints::Endpoint::default()
                $(
                    .with(
                        <$module::[<__path_ $handler>] as utoipa::Path>::path(),
                        <$module::[<__path_ $handler>] as utoipa::Path>::methods(),
                        $module::$handler,
                    )
                )+
        }
    };
}

/// `api!(served, documented: (a::get, a::put), (b::list), …)`: `fn served() ->
/// Endpoints` and `fn documented() -> OpenApiRouter<AppState>` over the same
/// handlers, one group per path.
macro_rules! api {
    ($served:ident, $documented:ident: $( ( $($module:ident :: $handler:ident),+ $(,)? ) ),+ $(,)?) => {
        fn $served() -> $crate::web::endpoints::Endpoints {
            $crate::web::endpoints::Endpoints::default()
                $( .add($crate::web::endpoints::endpoint!($($module::$handler),+)) )+
        }

        fn $documented() -> utoipa_axum::router::OpenApiRouter<$crate::web::AppState> {
            utoipa_axum::router::OpenApiRouter::new()
                $( .routes(utoipa_axum::routes!($($module::$handler),+)) )+
        }
    };
}

pub(crate) use {api, endpoint};
