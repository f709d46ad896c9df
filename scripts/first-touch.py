#!/usr/bin/env python3
"""Cost of first-touching fresh anonymous memory against touching it again, per 4 KB page.

On the VMs this project is measured on (a kernel with a virtio balloon doing free page reporting),
memory the guest has freed goes back to the host; the next first touch of such a page costs a
guest page fault plus a host one. A benchmark that allocates fresh buffers per run pays that on
every run. Usage: scripts/first-touch.py [MB] [rounds]   (default 1024 MB, 3 rounds)
"""
import mmap
import sys
import time

mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
n, page = mb << 20, 4096
print(f"# {mb} MB, {n // page} pages of 4 KB, {rounds} rounds (mmap, one byte written per page)")
for r in range(rounds):
    m = mmap.mmap(-1, n)
    t = time.perf_counter()
    for off in range(0, n, page):
        m[off] = 1
    first = time.perf_counter() - t
    t = time.perf_counter()
    for off in range(0, n, page):
        m[off] = 2
    again = time.perf_counter() - t
    m.close()
    pages = n // page
    print(f"round {r + 1}: first touch {first * 1e6 / pages:.2f} us/page ({mb / first:.0f} MB/s), "
          f"touched again {again * 1e6 / pages:.2f} us/page")
