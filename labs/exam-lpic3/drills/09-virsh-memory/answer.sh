virsh setmaxmem db 48M --config
virsh setmem db 48M --config
virsh destroy db
virsh start db
virsh dominfo db
