qemu-img create -f qcow2 extra.qcow2 32M
virsh attach-disk files "$LAB_HOME/extra.qcow2" vdb --subdriver qcow2 --live
virsh domblklist files
for _ in $(seq 300); do
    virsh domblkstat files vdb | grep -qx 'vdb wr_req 1' && break
    sleep 0.2
done
virsh domblkstat files vdb
virsh detach-disk files vdb --live
virsh domblklist files
