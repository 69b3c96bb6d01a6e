xl mem-set cache 24
# The guest moves in its own time.
for _ in $(seq 100); do
    [ "$(xl list cache | awk '$1 == "cache" {print $3}')" = 24 ] && break
    sleep 0.2
done
xl list cache
