virsh setvcpus api 2 --live --config
virsh vcpucount api
