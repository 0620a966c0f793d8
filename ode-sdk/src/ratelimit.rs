//! Request rates per API key and per tenant, shared by every API process.
//!
//! Each request is charged to two buckets: its key's (`api.rate_limit_per_sec`) and its
//! tenant's (`api.tenant_rate_limit_per_sec`, so that a tenant's many keys do not
//! multiply its rate); each allows a burst of twice its rate. With Redis configured
//! (the queue's), the buckets live there, so N API replicas share one rate instead of
//! allowing N times it: a Lua script checks and charges both atomically with GCRA (a
//! "theoretical arrival time" per bucket, on the Redis server's clock, so the replicas'
//! clocks do not matter). Without Redis, or while it does not answer, each process keeps
//! the buckets in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::domain::{ApiKeyId, TenantId};

/// The buckets, in Redis or in this process.
pub struct RateLimiter {
    key_rate: u32,
    tenant_rate: u32,
    local: Mutex<HashMap<String, (f64, Instant)>>,
    #[cfg(feature = "redis")]
    shared: Option<(redis::aio::ConnectionManager, String)>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("key_rate", &self.key_rate)
            .field("tenant_rate", &self.tenant_rate)
            .finish_non_exhaustive()
    }
}

/// Checks and charges a key's bucket and its tenant's: both or neither. Returns 0, or
/// the milliseconds until the request would be allowed.
#[cfg(feature = "redis")]
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local tats = {}
for i = 1, 2 do
  local interval = tonumber(ARGV[2 * i - 1])
  if interval > 0 then
    local tolerance = tonumber(ARGV[2 * i])
    local tat = tonumber(redis.call('GET', KEYS[i])) or now
    if tat < now then tat = now end
    if tat - now > tolerance then
      wait = math.max(wait, tat - now - tolerance)
    end
    tats[i] = tat + interval
  end
end
if wait > 0 then return math.ceil(wait / 1000) end
for i = 1, 2 do
  if tats[i] then
    redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000) + 1000)
  end
end
return 0
";

impl RateLimiter {
    /// Buckets of `key_rate` and `tenant_rate` requests a second (0: unlimited), in
    /// this process.
    pub fn local(key_rate: u32, tenant_rate: u32) -> Self {
        RateLimiter {
            key_rate,
            tenant_rate,
            local: Mutex::default(),
            #[cfg(feature = "redis")]
            shared: None,
        }
    }

    /// The same buckets in Redis, under `prefix`.
    #[cfg(feature = "redis")]
    pub fn shared(
        key_rate: u32,
        tenant_rate: u32,
        conn: redis::aio::ConnectionManager,
        prefix: &str,
    ) -> Self {
        RateLimiter {
            shared: Some((conn, format!("{prefix}:rate"))),
            ..RateLimiter::local(key_rate, tenant_rate)
        }
    }

    /// Whether the buckets are shared through Redis.
    pub fn is_shared(&self) -> bool {
        #[cfg(feature = "redis")]
        return self.shared.is_some();
        #[cfg(not(feature = "redis"))]
        false
    }

    /// Charges one request of `key` (of `tenant`); when a bucket is empty, the seconds
    /// until it is not.
    pub async fn check(&self, key: ApiKeyId, tenant: TenantId) -> Result<(), u64> {
        if self.key_rate == 0 && self.tenant_rate == 0 {
            return Ok(());
        }
        #[cfg(feature = "redis")]
        if let Some((conn, prefix)) = &self.shared {
            match self.check_redis(conn.clone(), prefix, key, tenant).await {
                Ok(0) => return Ok(()),
                Ok(wait_ms) => return Err(wait_ms.div_ceil(1000).max(1)),
                Err(e) => {
                    tracing::warn!(error = %e, "rate limits: Redis did not answer; counting in this process");
                }
            }
        }
        self.check_local(key, tenant)
    }

    #[cfg(feature = "redis")]
    async fn check_redis(
        &self,
        mut conn: redis::aio::ConnectionManager,
        prefix: &str,
        key: ApiKeyId,
        tenant: TenantId,
    ) -> Result<u64, redis::RedisError> {
        // Microseconds between requests, and the burst tolerated on top (twice the rate).
        let gcra = |rate: u32| -> (u64, u64) {
            if rate == 0 {
                (0, 0)
            } else {
                let interval = 1_000_000 / u64::from(rate);
                (interval, interval * (2 * u64::from(rate) - 1))
            }
        };
        let (ki, kt) = gcra(self.key_rate);
        let (ti, tt) = gcra(self.tenant_rate);
        redis::Script::new(GCRA)
            .key(format!("{prefix}:key:{key}"))
            .key(format!("{prefix}:tenant:{tenant}"))
            .arg(ki)
            .arg(kt)
            .arg(ti)
            .arg(tt)
            .invoke_async::<u64>(&mut conn)
            .await
    }

    fn check_local(&self, key: ApiKeyId, tenant: TenantId) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.local.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0.0f64;
        let mut take = Vec::new();
        for (name, rate) in [
            (format!("key:{key}"), self.key_rate),
            (format!("tenant:{tenant}"), self.tenant_rate),
        ] {
            if rate == 0 {
                continue;
            }
            let rate = f64::from(rate);
            let burst = rate * 2.0;
            let (tokens, at) = buckets.entry(name.clone()).or_insert((burst, now));
            *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(burst);
            *at = now;
            if *tokens >= 1.0 {
                take.push(name);
            } else {
                wait = wait.max((1.0 - *tokens) / rate);
            }
        }
        if wait > 0.0 {
            return Err(wait.ceil().max(1.0) as u64);
        }
        for name in take {
            if let Some((tokens, _)) = buckets.get_mut(&name) {
                *tokens -= 1.0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tenants_keys_share_its_bucket() {
        let limiter = RateLimiter::local(100, 2);
        let tenant = TenantId::new();
        let (a, b) = (ApiKeyId::new(), ApiKeyId::new());
        // A burst of twice the tenant's rate, across two keys, then a wait.
        assert_eq!(limiter.check(a, tenant).await, Ok(()));
        assert_eq!(limiter.check(b, tenant).await, Ok(()));
        assert_eq!(limiter.check(a, tenant).await, Ok(()));
        assert_eq!(limiter.check(b, tenant).await, Ok(()));
        assert_eq!(limiter.check(a, tenant).await, Err(1));
        // Another tenant is not affected.
        assert_eq!(
            limiter.check(ApiKeyId::new(), TenantId::new()).await,
            Ok(())
        );
    }
}
