package cycles

// Calibration records the measurements behind a fitted model.
type Calibration struct{}
