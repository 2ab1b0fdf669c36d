// Package run is the training kit that ludvae's two trainers share: `ludvae
// train` (LUD-VAE, package train) and `ludvae restore train` (DnCNN, package
// train/restore). It holds what does not depend on the network:
//
//   - the run folder (Folder): one trainer at a time (an flock on
//     train.lock naming the holder's PID, package pidlock), the temporary
//     files a killed trainer left removed at the start (package
//     atomicfile's rule), config.json with the history of settings changed
//     with --override, the checkpoint files (CheckpointFiles) and log.csv
//     (CSVLog);
//   - the check on resume (Setting, Changes, Folder.Accept): the settings
//     that shape a run must be the checkpoint's, unless --override;
//   - the step loop (Loop: batches made ahead, a progress bar, a checkpoint
//     on cancellation), the schedule of periodic work (Due), the count of
//     non-finite losses (BadSteps) and KAIR's MultiStepLR.
//
// The trainers pass in what is theirs: how a checkpoint is named and what
// it holds besides the network and Adam, which settings shape their runs,
// log.csv's columns, the step itself. Messages name the folder by --out,
// the flag of both commands. docs/run-folder.md describes the folder's
// files for users.
//
// The kit stands above torchbind (checkpoints are torchbind dicts holding a
// network's state dict and Adam's) and below model, train and synth.
package run
