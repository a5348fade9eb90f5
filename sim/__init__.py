"""The PyBullet twin of the bin-picking cell and the device emulators; the only pybullet user."""
