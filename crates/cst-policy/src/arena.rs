//! Index-based doubly linked lists over one arena of nodes: no allocation per
//! node once the arena has grown, `u32` links, O(1) unlink anywhere.

/// The null link.
pub(crate) const NIL: u32 = u32::MAX;

/// One entry of a policy: its key, its weight and its place in one list.
pub(crate) struct Node<K> {
    /// `None` only while the slot is on the free list.
    pub(crate) key: Option<K>,
    pub(crate) weight: u64,
    prev: u32,
    next: u32,
    /// Which list the node is on (meaning is up to the policy).
    pub(crate) queue: u8,
    /// Small frequency counter / flags (meaning is up to the policy).
    pub(crate) freq: u8,
}

/// A list threaded through the arena. `head` is the newest (MRU) end, `tail`
/// the oldest (LRU) end. `weight` is the sum of its nodes' weights.
#[derive(Clone, Copy, Debug)]
pub(crate) struct List {
    head: u32,
    tail: u32,
    pub(crate) len: usize,
    pub(crate) weight: u64,
}

impl Default for List {
    fn default() -> Self {
        List {
            head: NIL,
            tail: NIL,
            len: 0,
            weight: 0,
        }
    }
}

impl List {
    /// The oldest node, if any.
    #[inline]
    pub(crate) fn tail(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }
    /// True if the list holds no node.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }
}

/// The arena: nodes plus a free list threaded through `next`.
pub(crate) struct Arena<K> {
    nodes: Vec<Node<K>>,
    free: u32,
}

impl<K> Default for Arena<K> {
    fn default() -> Self {
        Arena {
            nodes: Vec::new(),
            free: NIL,
        }
    }
}

impl<K> Arena<K> {
    /// A new arena with room for `n` nodes.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Arena {
            nodes: Vec::with_capacity(n),
            free: NIL,
        }
    }

    /// Allocate a node (on no list yet).
    #[inline]
    pub(crate) fn alloc(&mut self, key: K, weight: u64, queue: u8) -> u32 {
        let node = Node {
            key: Some(key),
            weight,
            prev: NIL,
            next: NIL,
            queue,
            freq: 0,
        };
        if self.free != NIL {
            let i = self.free;
            self.free = self.nodes[i as usize].next;
            self.nodes[i as usize] = node;
            i
        } else {
            let i = u32::try_from(self.nodes.len()).expect("fewer than 2^32 - 1 entries");
            assert!(i != NIL, "fewer than 2^32 - 1 entries");
            self.nodes.push(node);
            i
        }
    }

    /// Free a node that is on no list; returns its key.
    #[inline]
    pub(crate) fn free(&mut self, i: u32) -> K {
        let n = &mut self.nodes[i as usize];
        let key = n.key.take().expect("freeing a live node");
        n.next = self.free;
        self.free = i;
        key
    }

    /// The node at `i`.
    #[inline]
    pub(crate) fn get(&self, i: u32) -> &Node<K> {
        &self.nodes[i as usize]
    }

    /// The node at `i`, mutably.
    #[inline]
    pub(crate) fn get_mut(&mut self, i: u32) -> &mut Node<K> {
        &mut self.nodes[i as usize]
    }

    /// The key of a live node.
    #[inline]
    pub(crate) fn key(&self, i: u32) -> &K {
        self.nodes[i as usize].key.as_ref().expect("live node")
    }

    /// Put node `i` at the head (newest end) of `list`.
    #[inline]
    pub(crate) fn push_front(&mut self, list: &mut List, i: u32) {
        let old = list.head;
        {
            let n = &mut self.nodes[i as usize];
            n.prev = NIL;
            n.next = old;
        }
        if old != NIL {
            self.nodes[old as usize].prev = i;
        } else {
            list.tail = i;
        }
        list.head = i;
        list.len += 1;
        list.weight += self.nodes[i as usize].weight;
    }

    /// Take node `i` off `list` (it must be on it).
    #[inline]
    pub(crate) fn unlink(&mut self, list: &mut List, i: u32) {
        let (prev, next, w) = {
            let n = &self.nodes[i as usize];
            (n.prev, n.next, n.weight)
        };
        if prev != NIL {
            self.nodes[prev as usize].next = next;
        } else {
            list.head = next;
        }
        if next != NIL {
            self.nodes[next as usize].prev = prev;
        } else {
            list.tail = prev;
        }
        list.len -= 1;
        list.weight -= w;
    }

    /// Move node `i` (on `list`) to the head of `list`.
    #[inline]
    pub(crate) fn move_to_front(&mut self, list: &mut List, i: u32) {
        if list.head != i {
            self.unlink(list, i);
            self.push_front(list, i);
        }
    }

    /// Change the weight of node `i`, which is on `list`.
    #[inline]
    pub(crate) fn set_weight(&mut self, list: &mut List, i: u32, weight: u64) {
        let n = &mut self.nodes[i as usize];
        list.weight = list.weight - n.weight + weight;
        n.weight = weight;
    }

    /// Iterate a list from tail (oldest) to head (newest).
    pub(crate) fn iter_oldest_first<'a>(&'a self, list: &List) -> impl Iterator<Item = u32> + 'a {
        let mut cur = list.tail;
        std::iter::from_fn(move || {
            if cur == NIL {
                None
            } else {
                let i = cur;
                cur = self.nodes[i as usize].prev;
                Some(i)
            }
        })
    }
}
