cat >web.cfg <<CFG
name   = "web"
memory = 32
vcpus  = 1
kernel = "$PWD/kernels/pattern.elf"
disk   = [ 'format=raw, vdev=xvda, access=rw, target=$PWD/web.img' ]
CFG
xl create web.cfg
xl list
