//! The node probe: eBPF programs that watch self-hosted agents from outside their process
//! (exec, file opens, connects), attribute what they see to the owning Deployment, and
//! enforce per-agent egress allowlists in the kernel.
//!
//! Nothing is implemented here yet: the crate exists so the workspace has its final shape.
//! Until it lands, agentward reports the kernel and network layers of self-hosted agents
//! as not observed.
