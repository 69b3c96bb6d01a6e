qemu-img create -f qcow2 -o cluster_size=128k,lazy_refcounts=on web.qcow2 2G
