// Package prepare arranges the public downloads of LUD-VAE's three data sets,
// as their archives unpack, into the unpaired layout training reads:
//
//	DATA_DIR/clean/         clean-domain images (symlinks by default, or copies)
//	DATA_DIR/noisy/         degraded-domain images
//	DATA_DIR/prepare.json   what was prepared, from where, and how training must treat it
//
// It only arranges files: nothing is decoded or resized here. It checks the
// expected image counts of each set and names what is missing; a shortfall is
// an error unless Options.AllowPartial (`--allow-partial`) turns it into a
// warning, which is how subsets are prepared.
//
// # Data sets and the layouts they are read from
//
// SIDD (Dataset "sidd"): SIDD-Small sRGB as SIDD_Small_sRGB_Only.zip
// unpacks, SIDD_Small_sRGB_Only/Data/<scene>/GT_SRGB_010.PNG (clean) and
// NOISY_SRGB_010.PNG (degraded), SIDDSmallScenes scene folders. Options.From
// may name the folder holding SIDD_Small_sRGB_Only, SIDD_Small_sRGB_Only
// itself, or its Data folder. Output names are prefixed with the scene
// folder's name (<scene>_GT_SRGB_010.PNG), so they stay unique. By default
// every GT image goes to clean/ and every NOISY image to noisy/: the same
// scenes appear in both domains, as in the paper (which only shuffles the
// pairs apart). With Options.Disjoint the complete scenes are split in two
// halves, so that no scene appears in both domains; see SplitScenes.
// A Scene_Instances.txt beside or inside Data, when it lists exactly
// SIDDSmallScenes names, lets missing scene folders be named.
//
// AIM19 (Dataset "aim19"): the AIM 2019 Real-World SR challenge, track 2
// (target domain), as the organizers' train-clean-images.zip (800 DIV2K HR
// images) and train-noisy-images.zip (2650 degraded Flickr2K images) unpack,
// or as DeFlow's get-AIM-RWSR-train.sh prepares them (train-clean-images/1x,
// 4x, 32x and train-noisy-images/1x, 8x). The LUD-VAE authors train on DeFlow's
// train-clean-images/4x (already downscaled ×4) and train-noisy-images/1x.
//
// NTIRE20 (Dataset "ntire20"): the NTIRE 2020 Real-World SR challenge,
// track 1: Corrupted-tr-y (800 clean HR images) and Corrupted-tr-x (2650
// degraded images), as they unpack or as DeFlow's get-NTIRE-RWSR-train.sh
// prepares them (Corrupted-tr-y/1x, 4x, 16x; Corrupted-tr-x/1x, 4x).
//
// For both SR sets the two folders are looked for in Options.From and up to
// two folder levels below it (so From may be the download folder or, for
// example, its AIM-RWSR subfolder). In each, a DeFlow scale folder is used
// when present: clean 4x (downscale_clean 1), else clean 1x or the folder's
// own images (HR: downscale_clean 4); noisy 1x, else the folder's own
// images. A folder that holds no images but a folder of its own name (an
// archive unpacked with `unzip -d NAME` that already contained NAME/) is
// entered.
//
// # prepare.json
//
// Run writes DATA_DIR/prepare.json (see Manifest; ReadManifest and
// FindManifest read it back). Its fields:
//
//	version          1
//	dataset          "sidd", "aim19" or "ntire20" (also the training preset's name)
//	from             the --from folder, absolute
//	layout           "sidd-small", "raw" (as the archives unpack), "deflow"
//	                 (DeFlow's scale folders) or "mixed" (one folder each)
//	clean_source     the folder clean images came from, absolute
//	noisy_source     the folder degraded images came from, absolute
//	clean, noisy     number of images in DATA_DIR/clean and DATA_DIR/noisy
//	expected_clean,  the counts a complete download gives (with --disjoint,
//	expected_noisy   SIDD's halves)
//	downscale_clean  factor by which training must shrink every clean image
//	                 before use: 1 = use as is; 4 = HR images that training
//	                 downscales ×1/4 with MATLAB-style antialiased bicubic
//	                 (images.Imresize, KAIR's imresize) when it loads them, so
//	                 that the model learns LR-clean → LR-degraded
//	                 (DESIGN §2 "Super-resolution")
//	mode             "symlink" or "copy"
//	options          {"disjoint", "seed", "allow_partial"} as given
//	clean_scenes,    SIDD with --disjoint: the scene folders of each domain
//	noisy_scenes
//	warnings         shortfalls accepted with --allow-partial, and notes
//
// The file holds no timestamps: re-running prepare on the same tree with
// the same options rewrites it byte for byte.
package prepare
