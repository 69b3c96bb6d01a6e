virsh define web.xml
virsh start web
# The guest prints where its counter is once it counts (the grader reads it).
for _ in $(seq 300); do grep -q '^pattern: counting' "$HVKIT_STATE_DIR/running/web.log" && break; sleep 0.2; done
virsh suspend web
virsh domstate web --reason
virsh list
