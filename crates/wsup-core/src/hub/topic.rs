//! One topic: its subscribers, in a vector (publishing walks it) with an
//! index by connection (joining and leaving are O(1)).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use super::{read, write, SlowConsumer};
use crate::conn::Sender;

pub(super) struct Topic {
    name: Arc<str>,
    policy: Mutex<Option<SlowConsumer>>,
    subscribers: RwLock<Subscribers>,
}

#[derive(Default)]
struct Subscribers {
    /// Each with the key of the hook that unsubscribes it when it ends.
    list: Vec<(Sender, u64)>,
    /// Connection id → place in `list`.
    index: HashMap<u64, usize>,
}

impl Topic {
    pub(super) fn new(name: Arc<str>, policy: Option<SlowConsumer>) -> Self {
        Topic {
            name,
            policy: Mutex::new(policy),
            subscribers: RwLock::default(),
        }
    }

    pub(super) fn name(&self) -> &Arc<str> {
        &self.name
    }

    pub(super) fn policy(&self) -> Option<SlowConsumer> {
        *self.policy.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn set_policy(&self, policy: SlowConsumer) {
        *self.policy.lock().unwrap_or_else(|e| e.into_inner()) = Some(policy);
    }

    pub(super) fn len(&self) -> usize {
        read(&self.subscribers).list.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds the connection of `sender`, with `hook` to run when it ends;
    /// `false` if it is here already or has ended.
    pub(super) fn add(&self, sender: &Sender, hook: impl FnOnce() + Send + 'static) -> bool {
        let mut subs = write(&self.subscribers);
        if subs.index.contains_key(&sender.id()) {
            return false;
        }
        let Some(key) = sender.outbox().on_close(Box::new(hook)) else {
            return false;
        };
        let at = subs.list.len();
        subs.list.push((sender.clone(), key));
        subs.index.insert(sender.id(), at);
        true
    }

    /// Removes connection `id` (and, when it has not ended, its hook).
    pub(super) fn remove(&self, id: u64, drop_hook: bool) -> bool {
        let mut subs = write(&self.subscribers);
        let Some(at) = subs.index.remove(&id) else {
            return false;
        };
        let (sender, key) = subs.list.swap_remove(at);
        if let Some((moved, _)) = subs.list.get(at) {
            let moved = moved.id();
            subs.index.insert(moved, at);
        }
        let len = subs.list.len();
        if subs.list.capacity() > 64 && len < subs.list.capacity() / 4 {
            subs.list.shrink_to(len * 2);
            subs.index.shrink_to(len * 2);
        }
        drop(subs);
        if drop_hook {
            sender.outbox().remove_hook(key);
        }
        true
    }

    /// Runs `f` on every subscriber, holding the topic (not the hub).
    pub(super) fn each(&self, mut f: impl FnMut(&Sender)) {
        for (sender, _) in &read(&self.subscribers).list {
            f(sender);
        }
    }
}
