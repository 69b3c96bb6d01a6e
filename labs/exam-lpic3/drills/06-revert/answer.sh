virsh snapshot-list demo
virsh snapshot-revert demo before-upgrade
virsh snapshot-delete demo before-upgrade
