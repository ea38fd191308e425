//! Reading banks and their contents: what does not exist is an
//! [`Error::NotFound`], so callers never build that answer themselves.

use vigil_store::{Bank, BankName, Content};

use crate::{Engine, Error, Missing};

impl Engine {
    /// Every bank, by name.
    pub fn banks(&self) -> Result<Vec<Bank>, Error> {
        Ok(self.store.banks()?)
    }

    /// The bank `name`.
    pub fn bank(&self, name: &BankName) -> Result<Bank, Error> {
        self.store
            .bank(name)?
            .ok_or_else(|| Missing::Bank(name.to_string()).into())
    }

    /// The content `id`, with everything known about it.
    pub fn content(&self, id: i64) -> Result<Content, Error> {
        self.store
            .content(id)?
            .ok_or_else(|| Missing::Content(id).into())
    }
}
