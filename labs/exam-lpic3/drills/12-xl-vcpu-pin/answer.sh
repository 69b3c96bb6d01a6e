xl vcpu-pin app 0 0
xl vcpu-list app
