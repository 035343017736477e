// `fastpubsub control`: the control-plane service lives in @fastpubsub/control; this module only
// registers its command under the one `fastpubsub` binary.
export { command } from '@fastpubsub/control/cli';
