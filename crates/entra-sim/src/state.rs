//! The simulator's shared state.

use crate::SimConfig;
use crate::error::StartError;

pub struct SimState {
    pub cfg: SimConfig,
}

impl SimState {
    pub fn load(cfg: &SimConfig) -> Result<Self, StartError> {
        Ok(Self { cfg: cfg.clone() })
    }
}
