//! Reading the administrator's settings ([`protocol::settings::Settings`]).

use chrome_api::ChromeError;
use chrome_api::storage::{self, Area};
use protocol::settings::{KEY, Settings};

pub async fn load() -> Result<Settings, ChromeError> {
    Ok(storage::get(Area::Local, KEY).await?.unwrap_or_default())
}
