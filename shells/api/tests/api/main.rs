//! The API's integration tests: every test runs twice, on embedded defaults (SQLite,
//! local blobs, in-memory queue) and on PostgreSQL + Redis + S3 (moto), through the
//! typed client or plain HTTP, with the worker in the same process.

/// The servers' allocator, so that renders' memory is counted here as in `ode-api`.
#[global_allocator]
static ALLOC: ode_alloc::Counting = ode_alloc::Counting;

mod helpers;

mod auth;
mod documents;
mod exports;
mod hostile;
mod ops;
mod render;
mod resilience;
mod viewer;

/// Declares `embedded` and `production` variants of each test function.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::spawn($crate::helpers::Backend::Embedded).await;
                    super::$name(app).await;
                }
            )*
        }
        mod production {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::spawn($crate::helpers::Backend::Production).await;
                    super::$name(app).await;
                }
            )*
        }
    };
}
