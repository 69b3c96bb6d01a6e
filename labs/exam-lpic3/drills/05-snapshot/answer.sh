virsh define demo.xml
virsh snapshot-create-as demo clean "fresh install"
virsh snapshot-list demo
qemu-img snapshot -l demo.qcow2
