qemu-img create -f qcow2 data.qcow2 64M
virsh define web.xml
virsh attach-disk web "$LAB_HOME/data.qcow2" vdb --subdriver qcow2 --config
virsh undefine old
virsh domblklist web --details
virsh list --all
