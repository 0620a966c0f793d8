//! Rate limits shared through Redis (on 127.0.0.1:6379): two limiters over the same
//! Redis, as two API processes would be, share one rate per key and per tenant.
//!
//! Run: `cargo test -p ode-sdk --features redis --test ratelimit`.
#![cfg(feature = "redis")]

use ode_sdk::config::{QueueSettings, Secret};
use ode_sdk::domain::{ApiKeyId, TenantId};
use ode_sdk::jobs::connect_queue;
use ode_sdk::ratelimit::RateLimiter;

async fn two_processes(key_rate: u32, tenant_rate: u32) -> (RateLimiter, RateLimiter) {
    let namespace = format!("ode-test-rate-{}", uuid::Uuid::now_v7().simple());
    let queue = connect_queue(&QueueSettings {
        url: Secret::new("redis://127.0.0.1:6379"),
        namespace,
    })
    .await
    .expect("Redis answers on 127.0.0.1:6379 (the test command starts it)");
    let (conn, ns) = queue.redis().expect("a Redis queue");
    (
        RateLimiter::shared(key_rate, tenant_rate, conn.clone(), &ns),
        RateLimiter::shared(key_rate, tenant_rate, conn, &ns),
    )
}

#[tokio::test]
async fn two_api_processes_share_one_rate_per_key() {
    let (a, b) = two_processes(2, 0).await;
    assert!(a.is_shared() && b.is_shared());
    let (key, tenant) = (ApiKeyId::new(), TenantId::new());
    // A burst of twice the rate (4), whichever process the requests reach.
    let mut allowed = 0;
    let mut refused = None;
    for i in 0..8 {
        let limiter = if i % 2 == 0 { &a } else { &b };
        match limiter.check(key, tenant).await {
            Ok(()) => allowed += 1,
            Err(wait) => {
                refused.get_or_insert(wait);
            }
        }
    }
    assert_eq!(allowed, 4, "one shared bucket, not one per process");
    assert_eq!(refused, Some(1), "retry after a second");
    // Another key is not affected.
    assert_eq!(a.check(ApiKeyId::new(), tenant).await, Ok(()));
}

#[tokio::test]
async fn a_tenants_keys_share_its_rate_across_processes() {
    let (a, b) = two_processes(1000, 1).await;
    let tenant = TenantId::new();
    assert_eq!(a.check(ApiKeyId::new(), tenant).await, Ok(()));
    assert_eq!(b.check(ApiKeyId::new(), tenant).await, Ok(()));
    // The tenant's burst of 2 is spent, whatever the key and the process.
    assert!(a.check(ApiKeyId::new(), tenant).await.is_err());
    assert!(b.check(ApiKeyId::new(), tenant).await.is_err());
}
