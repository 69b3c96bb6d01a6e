xl vcpu-set web 3
# The guest starts the CPUs in its own time.
for _ in $(seq 100); do
    [ "$(xl list web | awk '$1 == "web" {print $4}')" = 3 ] && break
    sleep 0.2
done
xl list web
xl vcpu-list web
