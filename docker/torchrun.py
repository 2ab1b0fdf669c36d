"""python3 docker/torchrun.py ARGS: torchrun (python3 -m torch.distributed.run
ARGS) that also works on a torch built without libuv, such as Debian 13's 2.6.

From torch 2.4 on, the TCPStore that torchrun's agent hosts for the
rendezvous asks for the libuv server by default, and torch 2.4 to 2.6's
torchrun has no option to ask for the classic one (USE_LIBUV=0 reaches only
init_process_group's stores): a torch built without libuv fails with "use_libuv
was requested but PyTorch was build without libuv support" before starting
any rank. This runs torchrun with the agent's stores on the classic server
(the same protocol) where USE_LIBUV=0 is set or the build has no libuv;
otherwise, and on torch before 2.4 (whose TCPStore has no use_libuv), it is
torchrun as is. The ranks it launches must not be Python torch ranks of the
same build: their own store clients ask for libuv too (ludvae's ranks join
the store in Go).
"""
import os
import sys

import torch.distributed as dist
from torch.distributed import run


def libuv_usable():
    if os.environ.get("USE_LIBUV", "1") != "1":
        return False
    try:
        dist.TCPStore("127.0.0.1", 0, 1, True, use_libuv=True)
    except RuntimeError as e:
        if "libuv" in str(e):
            return False
        raise
    return True


if "use_libuv" in (dist.TCPStore.__init__.__doc__ or "") and not libuv_usable():
    from torch.distributed.elastic.rendezvous import c10d_rendezvous_backend, static_tcp_rendezvous

    class ClassicTCPStore(dist.TCPStore):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("use_libuv", False)
            super().__init__(*args, **kwargs)

    # The modules that make the agent's stores: the static rendezvous (the
    # default, --master_addr/--master_port), the c10d backend and the
    # dynamic rendezvous (through torch.distributed.TCPStore).
    static_tcp_rendezvous.TCPStore = ClassicTCPStore
    c10d_rendezvous_backend.TCPStore = ClassicTCPStore
    dist.TCPStore = ClassicTCPStore
    os.environ["USE_LIBUV"] = "0"

if __name__ == "__main__":
    sys.argv[0] = "torchrun"
    sys.exit(run.main())
