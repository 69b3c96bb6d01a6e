virsh pool-define-as images dir --target "$LAB_HOME/images"
virsh pool-build images
virsh pool-start images
virsh pool-autostart images
virsh vol-create-as images disk1.qcow2 1G --format qcow2
