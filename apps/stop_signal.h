#pragma once
// SIGTERM (Slurm pre-emption) and the first Ctrl-C ask a training loop to checkpoint at the end of
// its step; a second Ctrl-C kills as usual.
namespace vecrl::apps {

void install_stop_handlers();
bool stop_requested();

}  // namespace vecrl::apps
