virsh snapshot-create-as app before-upgrade
virsh snapshot-create-as app after-upgrade
virsh snapshot-list app
qemu-img snapshot -l -U app.qcow2
virsh snapshot-revert app before-upgrade
virsh snapshot-delete app after-upgrade
virsh domstate app --reason
