// An intrusive doubly linked list of EntryIds over a policy's node array:
// O(1) push at the head, unlink anywhere, read the tail. `Node` has
// `EntryId prev, next`.
#pragma once

#include <vector>

#include "weir/cache/types.h"

namespace weir::cache {

class IdList {
 public:
  bool empty() const { return head_ == kNoEntry; }
  EntryId head() const { return head_; }
  EntryId tail() const { return tail_; }
  size_t size() const { return size_; }

  template <class Node>
  void pushHead(std::vector<Node>& nodes, EntryId id) {
    nodes[id].prev = kNoEntry;
    nodes[id].next = head_;
    if (head_ != kNoEntry) nodes[head_].prev = id;
    head_ = id;
    if (tail_ == kNoEntry) tail_ = id;
    ++size_;
  }

  template <class Node>
  void unlink(std::vector<Node>& nodes, EntryId id) {
    Node& n = nodes[id];
    if (n.prev != kNoEntry) nodes[n.prev].next = n.next; else head_ = n.next;
    if (n.next != kNoEntry) nodes[n.next].prev = n.prev; else tail_ = n.prev;
    n.prev = n.next = kNoEntry;
    --size_;
  }

 private:
  EntryId head_ = kNoEntry;
  EntryId tail_ = kNoEntry;
  size_t size_ = 0;
};

}  // namespace weir::cache
